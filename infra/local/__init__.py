"""The embedded local stack: `python -m infra.local` (or `make run`).

One process, everything on 127.0.0.1: AWS's DynamoDB Local holding the tables of
infra/template.yaml with their data in var/local (moto, in memory, without Java 17+ or with
LOCAL_ENGINE=moto), moto's SQS holding the queues, the HTTP API (chalice.local), the settlement
queue consumer, the scheduled jobs and the sandbox custodian bank (its state kept next to the
tables).

Modules, one job each:
  config     ports, secrets, engine, data folder and intervals from the environment
             (shared with infra.cli)
  tokens     local HS256 tokens
  ports      binding a port, with an error naming the variable to change
  runfile    the running stack's record in its data folder (claim, endpoints, engine pid)
  engine     the first step of a start: claim the folder, launch DynamoDB Local
  emulator   the AWS emulator (moto) and this process's boto3 clients
  api        the Chalice app served over HTTP
  bank       the sandbox bank: HTTP server, callback delivery, kept state
  consumers  the settlement queue consumer (Lambda event source mapping semantics)
  scheduler  the scheduled jobs (expiry, auto-confirm, settlement sweeper)
  stack      composition: start everything in order (re-driving work in flight at the last
             stop), stop it in reverse
  seed       optional demo data, created through the real HTTP API
"""
