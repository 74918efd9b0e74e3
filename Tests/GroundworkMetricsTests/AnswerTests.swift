import Foundation
import GroundworkCore
import GroundworkGeometry
import Testing

@testable import GroundworkMetrics

/// `AnswerJudge` (answer-match@1) and `ModelAnswers`' reading of answers.jsonl.
struct AnswerTests {
    func item(_ answerType: String, _ answer: String, options: [String]? = nil, correct: Int? = nil) -> ReleaseItem {
        ReleaseItem(
            id: "q", split: "test", width: 10, height: 10, modality: nil, questionType: "localization", label: nil,
            groundable: false, regions: [], answer: answer, answerType: answerType, options: options, correctOption: correct,
            file: "test.jsonl", line: 1)
    }

    @Test func closedAnswersAreReadAsYesOrNo() {
        let yes = item("closed", "Yes")
        #expect(AnswerJudge.isCorrect(ModelAnswer(answer: "yes."), for: yes))
        #expect(AnswerJudge.isCorrect(ModelAnswer(answer: "  \"Yes, the liver is visible.\" "), for: yes))
        #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: "No"), for: yes))
        #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: "yesterday"), for: yes), "a word that starts with yes is not yes")
        #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: "The liver"), for: yes))
        // The kit's normalised form wins over the text.
        #expect(AnswerJudge.isCorrect(ModelAnswer(answer: "I think so", normalized: "yes"), for: yes))
        #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: "yes", normalized: "no"), for: yes))
    }

    @Test func choiceAnswersAreReadAsLetterOrOption() {
        let choice = item("choice", "Liver", options: ["Lung", "Liver", "Heart"], correct: 1)
        for text in ["B", "b.", "(B)", "B) Liver", "b: liver", "Liver", "liver."] {
            #expect(AnswerJudge.isCorrect(ModelAnswer(answer: text), for: choice), "\(text)")
        }
        for text in ["A", "C) Heart", "Heart", "BB", "the liver, I think"] {
            #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: text), for: choice), "\(text)")
        }
        #expect(AnswerJudge.isCorrect(ModelAnswer(answer: "??", normalized: "B"), for: choice))
    }

    @Test func openAnswersMatchAfterNormalisation() {
        let open = item("open", "Left lower lobe")
        #expect(AnswerJudge.isCorrect(ModelAnswer(answer: "left  lower lobe."), for: open))
        #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: "left lobe"), for: open))
        #expect(AnswerJudge.normalize("  'Hello,   World!' ") == "hello, world")
    }

    @Test("a question with nothing to judge against is neither right nor wrong; the forms compared are kept")
    func judgementsNameTheFormsAndUnjudgeableQuestions() {
        let closed = AnswerJudge.judge(ModelAnswer(answer: "Yes, it is."), for: item("closed", "No"))
        #expect(closed == .init(given: "yes", expected: "no", correct: false))
        let unreadable = AnswerJudge.judge(ModelAnswer(answer: "maybe"), for: item("closed", "yes"))
        #expect(unreadable == .init(given: nil, expected: "yes", correct: false))
        let choice = AnswerJudge.judge(
            ModelAnswer(answer: "Liver"), for: item("choice", "Liver", options: ["Lung", "Liver"], correct: 1))
        #expect(choice == .init(given: "b", expected: "b", correct: true))
        // Nothing to judge against: a closed answer other than yes/no, a choice without its
        // options or correct option, an empty open answer.
        for question in [
            item("closed", "Left"), item("choice", "Liver"), item("choice", "Liver", options: ["Lung"], correct: 3),
            item("open", "  "),
        ] {
            let judgement = AnswerJudge.judge(ModelAnswer(answer: "yes"), for: question)
            #expect(judgement.correct == nil && judgement.expected == nil, "\(question.answerType) \(question.answer)")
            #expect(!AnswerJudge.isCorrect(ModelAnswer(answer: "yes"), for: question))
        }
    }

    @Test func answersFileProblemsAreAllReported() throws {
        let folder = TemporaryFolder()
        #expect(try ModelAnswers.load(folder: folder.path).get() == nil, "no answers.jsonl: no answers")
        _ = folder.write(
            "answers.jsonl",
            Array(
                """
                {"id": "1", "answer": "yes"}
                {"id": "2"}
                not json
                {"id": "1", "answer": "no"}
                {"id": 3, "answer": "no", "normalized": 5}

                """.utf8))
        guard case .failure(let error) = ModelAnswers.load(folder: folder.path) else {
            Issue.record("a bad answers.jsonl was read")
            return
        }
        let lines = error.diagnostics.compactMap { diagnostic -> Int? in
            if case .line(let line, _) = diagnostic.location { return line }
            return nil
        }
        #expect(lines.sorted() == [2, 3, 4, 5], "\(error.diagnostics)")
        #expect(error.diagnostics.contains { $0.message.contains("answered twice (also line 1)") })
    }
}

/// answers-line.schema.json and the answers reader agree: the reader reads exactly the fields
/// the schema allows (every read goes through `ModelAnswer.Field`).
@Suite("answers.jsonl reader and its schema")
struct AnswersSchemaAgreementTests {
    @Test func fieldsAreTheSchemasProperties() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/answers-line.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let properties = try #require(schema["properties"] as? [String: Any])
        #expect(Set(ModelAnswer.Field.allCases.map(\.rawValue)) == Set(properties.keys))
    }

    @Test("answers-judged-line.schema.json lists exactly the fields a judged answer writes, all required")
    func judgedFieldsAreTheSchemasProperties() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/answers-judged-line.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let properties = try #require(schema["properties"] as? [String: Any])
        let fields = Set(JudgedAnswer.Field.allCases.map(\.rawValue))
        #expect(fields == Set(properties.keys))
        #expect(fields == Set(schema["required"] as? [String] ?? []))
    }
}
