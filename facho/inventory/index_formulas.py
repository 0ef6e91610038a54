"""Old name of facho.inventory.decoders, kept only while discovery.py and seed.py import it."""
from facho.inventory.decoders import DecodedIndex, HUAWEI_GPON, SHIPPED_FORMULAS, ZTE_C300, ZTE_C320, decode_index, encode_index, validate_formula
__all__ = ["DecodedIndex", "HUAWEI_GPON", "SHIPPED_FORMULAS", "ZTE_C300", "ZTE_C320", "decode_index", "encode_index", "validate_formula"]
