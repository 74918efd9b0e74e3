import GroundworkCore

/// Checked reading of optional JSON fields shared by the JSON readers (COCO, VGMED): a value of
/// the wrong type or outside its set of values is an error at its place, never a silent
/// default or a silently shortened list.
enum JSONFields {
    /// The outcome of reading one optional field.
    enum Field<T> {
        /// Absent, or `null`.
        case missing
        case value(T)
        /// Present but unusable (already reported).
        case invalid

        /// The value, or `fallback` when the field is missing; nil when it is invalid.
        func or(_ fallback: T) -> T? {
            switch self {
            case .missing: return fallback
            case .value(let value): return value
            case .invalid: return nil
            }
        }

        /// The value when present; nil when missing or invalid.
        var value: T? {
            if case .value(let value) = self { return value }
            return nil
        }

        var isInvalid: Bool {
            if case .invalid = self { return true }
            return false
        }
    }

    /// A string field whose value must be one of an enumeration's raw values.
    static func enumeration<T: RawRepresentable & CaseIterable>(
        _ object: JSONValue, _ key: String, at location: SourceLocation, context: ReaderContext, file: String? = nil
    ) -> Field<T> where T.RawValue == String {
        guard let raw = object[key], !raw.isNull else { return .missing }
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = raw.stringValue, let parsed = T(rawValue: text) else {
            context.report(
                .error, location, code: "bad_value", "'\(key)' must be one of \(allowed), found \(raw.canonicalText())",
                file: file)
            return .invalid
        }
        return .value(parsed)
    }

    /// A list of strings (e.g. `options`): every element must be a string.
    static func strings(
        _ object: JSONValue, _ key: String, at location: SourceLocation, pointer: String?, context: ReaderContext,
        file: String? = nil
    ) -> Field<[String]> {
        guard let raw = object[key], !raw.isNull else { return .missing }
        guard let list = raw.arrayValue else {
            context.report(
                .error, location, code: "bad_value", "'\(key)' must be a list of strings, found \(raw.canonicalText())",
                file: file)
            return .invalid
        }
        var result: [String] = []
        var failed = false
        for (index, element) in list.enumerated() {
            guard let text = element.stringValue else {
                let place = pointer.map { SourceLocation.jsonPointer("\($0)/\(key)/\(index)") } ?? location
                context.report(
                    .error, place, code: "bad_value",
                    "'\(key)' must be a list of strings: element \(index) is \(element.canonicalText())", file: file)
                failed = true
                continue
            }
            result.append(text)
        }
        return failed ? .invalid : .value(result)
    }

    /// A whole-number field.
    static func integer(
        _ object: JSONValue, _ key: String, at location: SourceLocation, context: ReaderContext, file: String? = nil
    ) -> Field<Int> {
        guard let raw = object[key], !raw.isNull else { return .missing }
        guard let number = raw.intValue else {
            context.report(
                .error, location, code: "bad_value", "'\(key)' must be a whole number, found \(raw.canonicalText())", file: file)
            return .invalid
        }
        return .value(number)
    }

    /// A string field.
    static func string(
        _ object: JSONValue, _ key: String, at location: SourceLocation, context: ReaderContext, file: String? = nil
    ) -> Field<String> {
        guard let raw = object[key], !raw.isNull else { return .missing }
        guard let text = raw.stringValue else {
            context.report(
                .error, location, code: "bad_value", "'\(key)' must be a string, found \(raw.canonicalText())", file: file)
            return .invalid
        }
        return .value(text)
    }

    /// A true/false field.
    static func boolean(
        _ object: JSONValue, _ key: String, at location: SourceLocation, context: ReaderContext, file: String? = nil
    ) -> Field<Bool> {
        guard let raw = object[key], !raw.isNull else { return .missing }
        guard let flag = raw.boolValue else {
            context.report(
                .error, location, code: "bad_value", "'\(key)' must be true or false, found \(raw.canonicalText())", file: file)
            return .invalid
        }
        return .value(flag)
    }
}

/// First places of ids within one file, to report a repeated id with both of its places.
struct IDPlaces {
    private var first: [String: SourceLocation] = [:]

    /// Records `id` at `location`; returns the earlier place when the id was already seen.
    mutating func claim(_ id: String, at location: SourceLocation) -> SourceLocation? {
        if let earlier = first[id] { return earlier }
        first[id] = location
        return nil
    }
}
