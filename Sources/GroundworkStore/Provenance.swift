import Foundation
import GroundworkCore

/// Who and where, for provenance records (import batches, releases).
public enum Provenance {
    /// The user running the tool and the machine's name.
    public static func current() -> (user: String, host: String) {
        let env = ProcessInfo.processInfo.environment
        var user = env["USER"] ?? env["LOGNAME"] ?? ""
        if user.isEmpty, let pw = getpwuid(getuid()), let name = pw.pointee.pw_name {
            user = String(cString: name)
        }
        return (user.isEmpty ? "uid \(getuid())" : user, ProcessInfo.processInfo.hostName)
    }

    /// ISO 8601 UTC with milliseconds (``Timestamp/utc(_:milliseconds:)``).
    public static func timestamp(_ date: Date) -> String { Timestamp.utc(date, milliseconds: true) }

    /// A JSON array of strings, compact.
    public static func json(_ strings: [String]) -> String {
        (try? CanonicalJSON.string(strings, pretty: false)) ?? "[]"
    }
}
