"""The command line: thin Click commands that parse, call one function and print."""
