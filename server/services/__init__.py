"""Business rules. Views call one service; services flush, the request commits once."""
