"""The command line: typer commands, and the one place errors become exit codes."""
