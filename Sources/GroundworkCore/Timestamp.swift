import Foundation

/// The one way Groundwork writes a point in time: ISO 8601 in UTC, `2026-01-31T12:00:00Z`, or
/// with milliseconds, `2026-01-31T12:00:00.000Z` (import batches, regions and questions).
public enum Timestamp {
    /// `date` in ISO 8601, UTC, with or without milliseconds.
    public static func utc(_ date: Date, milliseconds: Bool = false) -> String {
        let formatter = ISO8601DateFormatter()
        if milliseconds { formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds] }
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
