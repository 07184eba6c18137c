"""A partner institution's pages: only the referrals addressed to it (referrals' partner API)."""
