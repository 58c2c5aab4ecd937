"""ITB registry: intrathecal baclofen pump therapy registry and analysis."""

__version__ = "0.1.0"
