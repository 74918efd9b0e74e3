import GRDB
import GroundworkCore

/// Which regions or questions a listing shows (the options of `groundwork regions list` and
/// `groundwork vqa list`); every filter given must hold.
public struct AnnotationFilter: Sendable, Equatable {
    /// A label by name or synonym (``LabelIndex``); an unknown label is an error.
    public var label: String?
    /// Only images of this modality.
    public var modality: String?
    /// Only this annotator (by name).
    public var annotator: String?
    public var status: ReviewStatus?
    /// Questions only: this question type.
    public var questionType: QuestionType?
    /// At most this many rows.
    public var limit: Int?

    public init(
        label: String? = nil, modality: String? = nil, annotator: String? = nil, status: ReviewStatus? = nil,
        questionType: QuestionType? = nil, limit: Int? = nil
    ) {
        self.label = label
        self.modality = modality
        self.annotator = annotator
        self.status = status
        self.questionType = questionType
        self.limit = limit
    }

    /// The `WHERE …` clause (empty when no filter) and its arguments, over a query whose alias
    /// for the listed table is `alias` (with `i` for image and `a` for annotator), the label
    /// column being `labelColumn`.
    func sql(_ db: Database, alias: String, labelColumn: String) throws -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let label {
            guard let id = try LabelIndex(db).id(for: label) else { throw LabelIndex.unknown(label, option: "--label") }
            clauses.append("\(alias).\(labelColumn) = ?")
            _ = arguments.append(contentsOf: [id])
        }
        let equalities: [(String, String?)] = [
            ("i.modality", modality), ("a.name", annotator), ("\(alias).status", status?.rawValue),
            ("\(alias).question_type", questionType?.rawValue),
        ]
        for (column, value) in equalities {
            guard let value else { continue }
            clauses.append("\(column) = ?")
            _ = arguments.append(contentsOf: [value])
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// `LIMIT n`, or nothing.
    var limitClause: String { limit.map { "LIMIT \($0)" } ?? "" }
}
