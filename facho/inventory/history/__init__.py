"""ONU readings as a time series (issue 12, part 1).

* `samples`: which values are numeric readings, the packed raw format of one (ONU, metric,
  day) row, bucketing a time into its UTC day and second of day (pure);
* `rollup`: hourly min/avg/max/count of raw samples, packed one row per day (pure);
* `store`: the I/O: append one execution's readings, roll up closed days, retention,
  deleting the series of deleted ONUs, and `series()`, the read API of the ONU page.
"""
