"""warmintro: turns happy B2B customers into warm introductions."""

__version__ = "0.1.0"
