{
  "algorithm": "rsa-pkcs1-sha256",
  "approver": "carol",
  "hsmca_approval": 1,
  "request_sha256": "baf5301759c59072a0935633ac3e191dd25f78cc62c18a810ddf60b6cfa6ed31",
  "signature": "Z8a4ySApBkVXpKwikj9sKOkLoJ4dVlU7Gzy71JlpX8vnJfMwg8xJiDKtpgy2wqAtbBusp8W1nteH71mA7cckWRqpcnAnxFCNrkmWXFEugowDG3RXMXKQUDd/bsMf641l4mG388lcQAAMcsh6N2HRikDSv9+gPK2z5EDVqXFS3fTBxRHH44CE19F4V+C19Nrwq7PKTODddMluD4fV7gm69OBMp5wG5InHANxn6zyxOWcWCVdVcCgSoOYsb+Z8GV9TR4JaknUZSxX7VJDsfS2dwDY26q/6v8H4x9VVcvFkxxvAmnPT+Gzj79NuzB7uw03VK/OK+W60vydVvNN4bZf9cg==",
  "signed_at": "2026-11-22T08:57:34Z"
}
