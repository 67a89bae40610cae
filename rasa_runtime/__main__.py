"""`python -m rasa_runtime run ...`: exactly `rasa run ...`, with the speed-ups applied first."""
import sys

from rasa_runtime import speedups


def main() -> None:
    speedups.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
