"""leadflow: lead management with one agreed definition of a lead."""

__version__ = "0.1.0"
