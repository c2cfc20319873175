"""The peripherals now live with the rest of the hardware description, in
`spicenn.crossbar.peripherals` (this name stays for existing imports)."""

from ..crossbar.peripherals import Peripherals, load_config, peripherals_from

__all__ = ["Peripherals", "load_config", "peripherals_from"]
