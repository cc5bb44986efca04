"""`python -m mlpcalc`."""

from mlpcalc.cli import main

if __name__ == "__main__":
    main()
