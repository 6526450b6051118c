"""Doubles of the outside world for the local stack, the tests and the benchmarks: the custodian
bank (in process, or served over HTTP on loopback) and the HTTP serving of the local stack.
Never packaged: only chalicelib/ and app.py ship in the Lambda bundle (tests/integration/
test_packaging.py checks it)."""
