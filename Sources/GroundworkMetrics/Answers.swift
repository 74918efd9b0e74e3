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
        let problems = JSONObjectLines.read(bytes, display: display, code: "bad_answer") { number, value, problem in
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
            guard let id, let answer else { return }
            if let earlier = firstLine[id] {
                problem(ModelAnswer.Field.id.pointer, "question \"\(id)\" is answered twice (also line \(earlier))")
                return
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
/// An answer that cannot be read as its type is wrong. A question that gives nothing to judge
/// against (a closed answer other than yes/no, a choice question without options or correct
/// option, an empty open answer) cannot be judged: its answers are neither right nor wrong.
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

    /// Whether `answer` is right for `item` (false also when the question cannot be judged).
    public static func isCorrect(_ answer: ModelAnswer, for item: ReleaseItem) -> Bool {
        judge(answer, for: item).correct == true
    }

    /// What the rule read and concluded for one answer.
    public struct Judgement: Sendable, Equatable {
        /// The answer as the rule compared it: `yes`/`no` (closed), an option letter in lower case
        /// (choice), the normalised text (open); nil when it cannot be read as its type.
        public var given: String?
        /// The expected answer in the same form; nil when the question gives nothing to judge
        /// against (a closed answer other than yes/no, a choice question without its options or
        /// correct option, an empty open answer).
        public var expected: String?
        /// Right or wrong; nil when the question cannot be judged (`expected` is nil).
        public var correct: Bool?
    }

    /// Judges `answer` against `item`: the forms compared and the verdict.
    public static func judge(_ answer: ModelAnswer, for item: ReleaseItem) -> Judgement {
        switch item.answerType {
        case "closed":
            let normalized = normalize(item.answer)
            let expected = normalized == "yes" || normalized == "no" ? normalized : nil
            let read = answer.normalized.map(normalize) ?? firstWord(normalize(answer.answer))
            let given = read == "yes" || read == "no" ? read : nil
            return Judgement(given: given, expected: expected, correct: expected.map { given == $0 })
        case "choice":
            var given: String?
            if let normalized = answer.normalized {
                given = normalize(normalized)
            } else {
                let text = normalize(answer.answer)
                if let letter = leadingLetter(text) {
                    given = letter
                } else if let match = item.options?.firstIndex(where: { normalize($0) == text }) {
                    given = letter(match).lowercased()
                }
            }
            guard let options = item.options, let correct = item.correctOption, options.indices.contains(correct) else {
                return Judgement(given: given, expected: nil, correct: nil)
            }
            let expected = letter(correct).lowercased()
            return Judgement(given: given, expected: expected, correct: given == expected)
        default:
            let expected = normalize(item.answer)
            let given = normalize(answer.answer)
            return expected.isEmpty
                ? Judgement(given: given, expected: nil, correct: nil)
                : Judgement(given: given, expected: expected, correct: given == expected)
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

/// One line of a results folder's `answers-judged.jsonl` (schemas/answers-judged-line.schema.json):
/// a question the model answered, what the rule read and whether it was right. `score` writes one
/// line per answered question of the release, in release order (the order of the scores);
/// `compare` pairs two runs' lines by question id.
public struct JudgedAnswer: Codable, Sendable, Equatable {
    /// The fields of a line, every one always written (null where there is no value).
    public enum Field: String, CaseIterable, Sendable, CodingKey {
        case id, questionType = "question_type", answerType = "answer_type", answer, normalized, given, expected, correct
    }

    /// The results file.
    public static let fileName = "answers-judged.jsonl"

    /// The question id.
    public var id: String
    public var questionType: String
    /// `closed`, `choice` or `open`.
    public var answerType: String
    /// The model's answer as generated.
    public var answer: String
    /// The kit's normalised form, when it gave one.
    public var normalized: String?
    /// The answer as the rule compared it (``AnswerJudge/Judgement/given``).
    public var given: String?
    /// The expected answer in the same form (nil: the question cannot be judged).
    public var expected: String?
    /// Right or wrong; nil when the question cannot be judged.
    public var correct: Bool?

    public init(
        id: String, questionType: String, answerType: String, answer: String, normalized: String?, given: String?,
        expected: String?, correct: Bool?
    ) {
        self.id = id
        self.questionType = questionType
        self.answerType = answerType
        self.answer = answer
        self.normalized = normalized
        self.given = given
        self.expected = expected
        self.correct = correct
    }

    /// The line for `answer` to `item`.
    init(_ answer: ModelAnswer, item: ReleaseItem) {
        let judgement = AnswerJudge.judge(answer, for: item)
        self.init(
            id: item.id, questionType: item.questionType, answerType: item.answerType, answer: answer.answer,
            normalized: answer.normalized, given: judgement.given, expected: judgement.expected,
            correct: judgement.correct)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Field.self)
        id = try c.decode(String.self, forKey: .id)
        questionType = try c.decode(String.self, forKey: .questionType)
        answerType = try c.decode(String.self, forKey: .answerType)
        answer = try c.decode(String.self, forKey: .answer)
        normalized = try c.decodeIfPresent(String.self, forKey: .normalized)
        given = try c.decodeIfPresent(String.self, forKey: .given)
        expected = try c.decodeIfPresent(String.self, forKey: .expected)
        correct = try c.decodeIfPresent(Bool.self, forKey: .correct)
    }

    /// Every field, nulls included, so that every line has the same members.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Field.self)
        try c.encode(id, forKey: .id)
        try c.encode(questionType, forKey: .questionType)
        try c.encode(answerType, forKey: .answerType)
        try c.encode(answer, forKey: .answer)
        try c.encode(normalized, forKey: .normalized)
        try c.encode(given, forKey: .given)
        try c.encode(expected, forKey: .expected)
        try c.encode(correct, forKey: .correct)
    }

    /// The line's bytes, newline included: canonical JSON (sorted keys, no spaces).
    func line() throws -> [UInt8] {
        Array(try CanonicalJSON.encoder(pretty: false).encode(self)) + [0x0A]
    }

    /// Reads a results folder's `answers-judged.jsonl` (`display` names it in messages): every
    /// malformed line and every repeated id is reported by line and JSON pointer.
    static func read(path: String, display: String) throws(DiagnosticsError) -> [JudgedAnswer] {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch {
            throw DiagnosticsError(
                summary: "cannot read the judged answers",
                diagnostics: [Diagnostic(.error, file: display, code: "unreadable", message: error.description)])
        }
        var lines: [JudgedAnswer] = []
        var firstLine: [String: Int] = [:]
        let problems = JSONObjectLines.read(bytes, display: display, code: "bad_judged_answer") {
            number, value, report in
            func problem(_ field: Field, _ message: String) { report("/" + field.rawValue, message) }
            func text(_ field: Field) -> String? {
                guard let member = value[field.rawValue], let text = member.stringValue else {
                    problem(field, "missing or not a string")
                    return nil
                }
                return text
            }
            func optionalText(_ field: Field) -> String?? {
                guard let member = value[field.rawValue] else {
                    problem(field, "missing (null when there is no value)")
                    return nil
                }
                if member.isNull { return .some(nil) }
                guard let text = member.stringValue else {
                    problem(field, "not a string or null")
                    return nil
                }
                return .some(text)
            }
            let id = text(.id)
            let questionType = text(.questionType)
            let answerType = text(.answerType)
            let answer = text(.answer)
            let normalized = optionalText(.normalized)
            let given = optionalText(.given)
            let expected = optionalText(.expected)
            var correct: Bool??
            if let member = value[Field.correct.rawValue] {
                if member.isNull {
                    correct = .some(nil)
                } else if let flag = member.boolValue {
                    correct = .some(flag)
                } else {
                    problem(.correct, "not true, false or null")
                }
            } else {
                problem(.correct, "missing (null when the question cannot be judged)")
            }
            guard let id, let questionType, let answerType, let answer, let normalized, let given, let expected,
                let correct
            else { return }
            if let earlier = firstLine[id] {
                problem(.id, "question \"\(id)\" appears twice (also line \(earlier))")
                return
            }
            firstLine[id] = number
            lines.append(
                JudgedAnswer(
                    id: id, questionType: questionType, answerType: answerType, answer: answer, normalized: normalized,
                    given: given, expected: expected, correct: correct))
        }
        guard problems.isEmpty else {
            throw DiagnosticsError(summary: "\(display) has \(problems.count) problem(s)", diagnostics: problems)
        }
        return lines
    }
}

/// The JSON object on each line of a JSON Lines file, for readers that check every field and
/// report every problem: blank lines are skipped, a line that is not JSON is reported
/// (`json_syntax`, at its line and column), one that is not an object is reported as `code` at
/// `/`, and `body` reports into the same list (`problem(pointer, message)`, at the line).
enum JSONObjectLines {
    static func read(
        _ bytes: [UInt8], display: String, code: String,
        _ body: (_ number: Int, _ value: JSONValue, _ problem: (_ pointer: String, _ message: String) -> Void) -> Void
    ) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var number = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let here = number
            func problem(_ pointer: String, _ message: String) {
                problems.append(
                    Diagnostic(.error, file: display, location: .line(here), code: code, message: "at \(pointer): \(message)"))
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
            body(here, value, problem)
        }
        return problems
    }
}
