"""The partner API: an institution sees and answers only the referrals addressed to it."""
