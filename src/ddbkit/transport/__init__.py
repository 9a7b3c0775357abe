"""The transport layer: how ddbkit reaches DynamoDB (see shared/ARCHITECTURE.md).

Today it holds the picklable :class:`~ddbkit.transport.spec.ConnectionSpec`; the senders move
here from ``ddbkit.database`` with the re-layering of issue 8.
"""
