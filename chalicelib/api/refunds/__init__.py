"""Money going back: refund requests and their payouts, escalations, the account a refund goes to,
disputed lessons, payments that matched no order, and payouts the bank executed late. (HTTP
routes; docs/architecture.md is the map.)"""
