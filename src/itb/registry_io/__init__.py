"""The registry's flat CSV format: read and validate a directory, write one, synthesise one."""

from itb.registry_io.loader import Registry, RegistryInvalid, load_registry
from itb.registry_io.problems import Problem

__all__ = ["Problem", "Registry", "RegistryInvalid", "load_registry"]
