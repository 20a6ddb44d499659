"""cartmatch: match referrals against CAR-T options reachable in mainland China."""
