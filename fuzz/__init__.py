"""Coverage-guided fuzzing (atheris) of what reads input from outside: `make fuzz` (run.py); SECURITY.md "Fuzzing"."""
