"""What the integration computes from a meter's readings: counter guard, publish window,
capacity tariff and derived values (totals, net power)."""
