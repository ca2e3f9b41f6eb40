import Foundation

/// UTC calendar periods of budgets: a day from midnight, a week from Monday midnight, a month
/// from the 1st; `total` never resets.
public enum BudgetPeriods {
    /// Unix seconds when the period containing `now` started.
    public static func start(_ period: Budget.Period, now: Int64) -> Int64 {
        var fields = utc(now)
        fields.tm_hour = 0
        fields.tm_min = 0
        fields.tm_sec = 0
        switch period {
        case .total: return 0
        case .day: return Int64(timegm(&fields))
        case .week:
            let daysSinceMonday = (Int(fields.tm_wday) + 6) % 7
            return Int64(timegm(&fields)) - Int64(daysSinceMonday) * 86_400
        case .month:
            fields.tm_mday = 1
            return Int64(timegm(&fields))
        }
    }

    /// Unix seconds when the period containing `now` ends (nil for `total`).
    public static func reset(_ period: Budget.Period, now: Int64) -> Int64? {
        let begin = start(period, now: now)
        switch period {
        case .total: return nil
        case .day: return begin + 86_400
        case .week: return begin + 7 * 86_400
        case .month:
            var fields = utc(begin)
            fields.tm_mon += 1  // timegm normalises December + 1
            return Int64(timegm(&fields))
        }
    }

    /// The word for messages: "today", "this week", "this month", "in total".
    public static func phrase(_ period: Budget.Period) -> String {
        switch period {
        case .day: return "today"
        case .week: return "this week"
        case .month: return "this month"
        case .total: return "in total"
        }
    }

    static func utc(_ seconds: Int64) -> tm {
        var t = time_t(seconds)
        var fields = tm()
        gmtime_r(&t, &fields)
        return fields
    }
}
