{
  "algorithm": "ecdsa-sha256",
  "approver": "bob",
  "hsmca_approval": 1,
  "request_sha256": "ba