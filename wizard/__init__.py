"""aws-harden: lock down a new AWS account one verified step at a time."""

__version__ = "0.1.0"
