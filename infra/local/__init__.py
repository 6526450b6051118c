"""The embedded local stack: `python -m infra.local` (or `make run`).

One process, everything on 127.0.0.1: an all-Python AWS emulator (moto) holding the tables and
queues of infra/template.yaml, the HTTP API (chalice.local), the settlement queue consumer,
the scheduled jobs and the sandbox custodian bank.

Modules, one job each:
  config     ports, secrets and intervals from the environment (shared with infra.cli)
  tokens     local HS256 tokens
  emulator   the AWS emulator and this process's boto3 clients
  api        the Chalice app served over HTTP
  bank       the sandbox bank: HTTP server and callback delivery
  consumers  the settlement queue consumer (Lambda event source mapping semantics)
  scheduler  the scheduled jobs (expiry, auto-confirm, settlement sweeper)
  stack      composition: start everything in order, stop it in reverse
  seed       optional demo data, created through the real HTTP API
"""
