{
  "algorithm": "ecdsa-sha256",
  "approver": "bob",
  "hsmca_approval": 1,
  "request_sha256": "baf5301759c59072a0935633ac3e191dd25f78cc62c18a810ddf60b6cfa6ed31",
  "signature": "MEQCIDTLrXH4koN79e7F7dEX2EigqUMdbAV+MOBp5zkMaHJEAiBt+Knsesma9YHh2Q6chxt6glkG6UiJ+vt/Ujba6aPiTg==",
  "signed_at": "2026-11-22T08:57:34Z"
}
