from infra.cli import cli

cli()
