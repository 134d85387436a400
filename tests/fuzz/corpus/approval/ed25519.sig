{
  "algorithm": "ed25519",
  "approver": "alice",
  "hsmca_approval": 1,
  "request_sha256": "baf5301759c59072a0935633ac3e191dd25f78cc62c18a810ddf60b6cfa6ed31",
  "signature": "8bRGPDGwO5AJuWdQjhGs1SpzvcaYid6Jv8IXm34NswOWthyprL0rZRezg7hjubJ24sVQG/tU//OITS5wRjyZBg==",
  "signed_at": "2026-11-22T08:57:36Z"
}
