"""stm32gen: int8 TFLite object detectors to bit-exact STM32 firmware."""

__version__ = "0.1.0"
