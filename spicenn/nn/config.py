"""The hardware object now lives below the network layers, in `spicenn.crossbar.config`
(this name stays for existing imports)."""

from ..crossbar.config import DEFAULT_G_OFF, DEFAULT_G_ON, MAX_ADC_BITS, WEIGHT_MAPPINGS, CrossbarConfig

__all__ = ["DEFAULT_G_OFF", "DEFAULT_G_ON", "MAX_ADC_BITS", "WEIGHT_MAPPINGS", "CrossbarConfig"]
