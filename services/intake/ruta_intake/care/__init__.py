"""Care given to victims: recording and listing."""
