"""The reliability suite (issue 6): faults, load, bad input and security, against real
processes. Every test records what it injected and what it measured through the
`reliability` fixture; `make reliability` runs all of it (the `long` tests too) and writes
`bench/results/reliability.json`. `make test` runs the fast part."""
