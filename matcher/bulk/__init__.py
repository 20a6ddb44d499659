"""Bulk screening (DESIGN section 9): files of referrals in, ranked options per referral out."""
