{
  "algorithm": "ecdsa-sha384",
  "approver": "dave",
  "hsmca_approval": 1,
  "request_sha256": "baf5301759c59072a0935633ac3e191dd25f78cc62c18a810ddf60b6cfa6ed31",
  "signature": "MGUCMQCvmTY4bMuQF0YlgtkeCjTBq4In3eslrz3xx83Sisu9FWCpV0QbRIg94iJ78YzphuACMBykgYJCDusg3xti6bTuqNnW4lzkkE1ikEpmEvLoHlwkNn/n3/cjt4qJAVDisVhSnw==",
  "signed_at": "2026-11-22T08:57:34Z"
}
