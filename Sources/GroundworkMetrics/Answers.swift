import Foundation
import GroundworkCore

/// A model's answer to one question, as the model kit writes it to `answers.jsonl` beside the maps
/// (`schemas/answers-line.schema.json`): `{"id": question id, "answer": the generated text,
/// "normalized": "yes" | "no" | an option letter | null}`.
public struct ModelAnswer: Sendable, Equatable {
    /// The fields of a line that the reader reads (and the only ones: every read goes through
    /// these; a test holds them equal to the schema's properties).
    public enum Field: String, CaseIterable, Sendable {
        case id, answer, normalized

        /// The field's JSON pointer in the line.
        var pointer: String { "/" + rawValue }
    }

    public var answer: String
    /// The kit's normalised form of a closed or choice answer, when it could tell.
    public var normalized: String?

    public init(answer: String, normalized: String? = nil) {
        self.answer = answer
        self.normalized = normalized
    }
}

/// The answers of a submission, by question id (absent when the submission has no `answers.jsonl`).
public struct ModelAnswers: Sendable {
    public static let fileName = "answers.jsonl"
    public var byID: [String: ModelAnswer]
    /// FNV-1a 64 of the file's bytes, in hex: shards of one run must have read the same answers.
    public var digest: String

    /// Reads `answers.jsonl` in a submission folder: nil when there is none; every bad line and
    /// every duplicated id is reported (file, line, JSON pointer).
    public static func load(folder: String) -> Result<ModelAnswers?, DiagnosticsError> {
        let path = FileIO.absolute(folder) + "/" + fileName
        let display = (folder.hasSuffix("/") ? folder : folder + "/") + fileName
        let kind = FileIO.kind(path)
        guard kind.exists else { return .success(nil) }
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch {
            return .failure(
                DiagnosticsError(
                    summary: "cannot read the answers",
                    diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)]))
        }
        var answers: [String: ModelAnswer] = [:]
        var firstLine: [String: Int] = [:]
        var problems: [Diagnostic] = []
        var number = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            func problem(_ pointer: String, _ message: String) {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .line(number), code: "bad_answer",
                        message: "at \(pointer): \(message)"))
            }
            let value: JSONValue
            do { value = try JSONValue.parse(line, line: number) } catch {
                problems.append(
                    Diagnostic(
                        .error, file: display, location: .line(error.line, column: error.column), code: "json_syntax",
                        message: error.message))
                continue
            }
            guard value.objectValue != nil else {
                problem("/", "not a JSON object")
                continue
            }
            let idValue = value[ModelAnswer.Field.id.rawValue]
            let id = idValue?.stringValue ?? idValue?.intValue.map(String.init)
            if id == nil { problem(ModelAnswer.Field.id.pointer, "missing or not a string") }
            let answer = value[ModelAnswer.Field.answer.rawValue]?.stringValue
            if answer == nil { problem(ModelAnswer.Field.answer.pointer, "missing or not a string") }
            var normalized: String?
            if let raw = value[ModelAnswer.Field.normalized.rawValue], !raw.isNull {
                if let text = raw.stringValue {
                    normalized = text
                } else {
                    problem(ModelAnswer.Field.normalized.pointer, "not a string or null")
                }
            }
            guard let id, let answer else { continue }
            if let earlier = firstLine[id] {
                problem(ModelAnswer.Field.id.pointer, "question \"\(id)\" is answered twice (also line \(earlier))")
                continue
            }
            firstLine[id] = number
            answers[id] = ModelAnswer(answer: answer, normalized: normalized)
        }
        guard problems.isEmpty else {
            return .failure(DiagnosticsError(summary: "\(display) has \(problems.count) problem(s)", diagnostics: problems))
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return .success(ModelAnswers(byID: answers, digest: String(hash, radix: 16)))
    }
}

/// Judges a model's answer against a question's (`answer-match@1`):
/// - text is normalised: lower case, surrounding white space, quotes and final punctuation
///   (`.`, `!`, `?`, `,`, `;`, `:`) removed, inner runs of white space made one space;
/// - **closed** (yes/no): the kit's `normalized` when given, else the normalised answer's first word
///   must be `yes` or `no`; it is right when it equals the expected answer's;
/// - **choice**: the kit's `normalized` letter when given, else a leading letter (`B`, `B.`, `(B)`,
///   `B) liver`) or text equal to one option (normalised); right when it names the correct option;
/// - **open**: right when the normalised texts are equal.
/// An answer that cannot be read as its type is wrong.
public enum AnswerJudge {
    /// The rule's versioned id, recorded in the summary.
    public static let rule = "answer-match@1"

    public static func normalize(_ text: String) -> String {
        var value = text.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
        let quotes: Set<Character> = ["\"", "'", "`", "“", "”", "‘", "’"]
        let final: Set<Character> = [".", "!", "?", ",", ";", ":"]
        var changed = true
        while changed, !value.isEmpty {
            changed = false
            if let last = value.last, final.contains(last) || quotes.contains(last) {
                value.removeLast()
                changed = true
            }
            if let first = value.first, quotes.contains(first) {
                value.removeFirst()
                changed = true
            }
            value = value.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return value.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The letter of option `index` (0 → A).
    static func letter(_ index: Int) -> String { String(UnicodeScalar(UInt8(ascii: "A") + UInt8(index % 26))) }

    /// Whether `answer` is right for `item`.
    public static func isCorrect(_ answer: ModelAnswer, for item: ReleaseItem) -> Bool {
        switch item.answerType {
        case "closed":
            let expected = normalize(item.answer)
            let given = answer.normalized.map(normalize) ?? firstWord(normalize(answer.answer))
            return (given == "yes" || given == "no") && given == expected
        case "choice":
            guard let options = item.options, let correct = item.correctOption, options.indices.contains(correct) else {
                return false
            }
            let expected = letter(correct).lowercased()
            if let normalized = answer.normalized { return normalize(normalized) == expected }
            let text = normalize(answer.answer)
            if let given = leadingLetter(text) { return given == expected }
            if let match = options.firstIndex(where: { normalize($0) == text }) { return match == correct }
            return false
        default:
            return normalize(answer.answer) == normalize(item.answer)
        }
    }

    /// The option letter an answer starts with: `b`, `(b)`, `b)`, `b.`, `b:` alone or before a space.
    static func leadingLetter(_ text: String) -> String? {
        var rest = Substring(text)
        if rest.first == "(" { rest = rest.dropFirst() }
        guard let letter = rest.first, letter.isASCII, letter.isLetter else { return nil }
        rest = rest.dropFirst()
        if let mark = rest.first, ")].:".contains(mark) { rest = rest.dropFirst() }
        return rest.isEmpty || rest.first == " " ? String(letter) : nil
    }

    private static func firstWord(_ text: String) -> String {
        String(text.prefix { $0.isLetter })
    }
}
