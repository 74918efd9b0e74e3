import Foundation
import GRDB
import GroundworkAnnotations
import GroundworkBundledData
import GroundworkCore
import GroundworkStore
import Testing

@Suite("Questions from templates, agreement and consensus")
struct GenerationTests {
    /// Two images, two readers: reader A and B boxed the liver on image 1 (overlapping), A the spleen on image 2.
    private func twoReaders() throws -> ProjectFixture {
        let fixture = try ProjectFixture(images: ["one.png": (100, 100), "two.png": (100, 100)])
        try fixture.project.database.write { db in
            _ = try TaxonomyFile(labels: [
                .init(name: "Liver", synonyms: ["hepar"]), .init(name: "Spleen"), .init(name: "Heart"), .init(name: "Kidney"),
            ]).install(into: db)
            try db.execute(sql: "UPDATE image SET modality = 'CT'")
        }
        let a = fixture.write(
            "a.json",
            """
            {"images": [{"id": 1, "file_name": "one.png"}, {"id": 2, "file_name": "two.png"}], "categories": [{"id": 1, "name": "Liver"}, {"id": 2, "name": "Spleen"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40]}, {"id": 2, "image_id": 2, "category_id": 2, "bbox": [5, 5, 10, 10]}]}
            """)
        let b = fixture.write(
            "b.json",
            """
            {"images": [{"id": 1, "file_name": "one.png"}], "categories": [{"id": 1, "name": "hepar"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [30, 10, 40, 40]}]}
            """)
        #expect(try fixture.importAnnotations(a) { $0.annotator = "A" }.committed)
        #expect(try fixture.importAnnotations(b) { $0.annotator = "B" }.committed)
        return fixture
    }

    private func template(_ answerType: String = "closed") throws -> TemplateFile {
        let path = try #require(BundledData.template("localization")?.path)
        var template = try TemplateFile.load(path: path)
        template.negatives = ["CT": ["Heart", "Kidney", "Liver"]]
        if answerType == "open" { template.answerType = .open }
        return template
    }

    @Test("one question per (image, label), its target the union of the regions; deterministic; re-runs add nothing")
    func generate() throws {
        let fixture = try twoReaders()
        let report = try QuestionGenerator.run(
            template: try template(), negatives: 1, seed: 7, project: fixture.project, arguments: [])
        #expect(report.positives == 2)
        #expect(report.negatives == 2)
        let items = try fixture.project.database.read { try VQAItemRecord.order(Column("id")).fetchAll($0) }
        let positives = items.filter { $0.answer == "yes" }
        #expect(positives.allSatisfy { $0.groundable && $0.templateId?.hasPrefix("localization/loc-") == true })
        let liver = try #require(positives.first { $0.imageId == 1 })
        #expect(
            try fixture.project.database.read {
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM vqa_target WHERE vqa_id = ?", arguments: [liver.id])
            } == 2)
        #expect(liver.question.contains("liver") || liver.question.contains("hepar"))
        let negatives = items.filter { $0.answer == "no" }
        #expect(negatives.allSatisfy { !$0.groundable })
        // A negative never asks about a label the image has.
        #expect(!negatives.contains { $0.imageId == 1 && $0.targetLabelId == liver.targetLabelId })
        let again = try QuestionGenerator.run(
            template: try template(), negatives: 1, seed: 7, project: fixture.project, arguments: [])
        #expect(again.positives == 0 && again.negatives == 0 && again.existing == 4)
        // Same seed, new project: the same questions.
        let other = try twoReaders()
        _ = try QuestionGenerator.run(template: try template(), negatives: 1, seed: 7, project: other.project, arguments: [])
        let texts = { (f: ProjectFixture) in
            try f.project.database.read {
                try String.fetchAll($0, sql: "SELECT question || '|' || answer FROM vqa_item ORDER BY image_id, question")
            }
        }
        #expect(try texts(fixture) == texts(other))
        #expect(try ProjectValidation.run(fixture.project).errors == 0)
    }

    @Test("agreement: pairwise IoU of the two readers' liver boxes; consensus by mean box and majority")
    func agreementAndConsensus() throws {
        let fixture = try twoReaders()
        let agreement = try AgreementReport.compute(fixture.project)
        #expect(agreement.findings.count == 1)
        #expect(agreement.singleReader == 1)
        // [10,10,50,50] vs [30,10,70,50]: intersection 20×40 = 800, union 2400.
        #expect(abs(agreement.findings[0].meanIou - 800.0 / 2400.0) < 1e-9)
        let meanBox = try Consensus.run(.meanBox, project: fixture.project, arguments: [])
        #expect(meanBox.made == 1)
        let consensus = try #require(
            try fixture.project.database.read { try RegionRecord.filter(Column("consensus_method") != nil).fetchOne($0) })
        #expect([consensus.x0, consensus.y0, consensus.x1, consensus.y1] == [20, 10, 60, 50])
        #expect(consensus.consensusMethod == "mean-box@1")
        #expect(try fixture.count("consensus_member") == 2)
        #expect(try Consensus.run(.meanBox, project: fixture.project, arguments: []).existing == 1)
        // With two readers, majority (more than half) is the intersection.
        let majority = try Consensus.run(.majority, project: fixture.project, arguments: [])
        #expect(majority.made == 1)
        let mask = try #require(
            try fixture.project.database.read { try RegionRecord.filter(Column("consensus_method") == "majority@1").fetchOne($0) }
        )
        #expect([mask.x0, mask.y0, mask.x1, mask.y1] == [30, 10, 50, 50])
        #expect(mask.area == 800)
    }

    @Test("review sets a status, refuses unknown ids without changing anything")
    func review() throws {
        let fixture = try twoReaders()
        #expect(try Review.setStatus("reviewed", ids: [1, 2], table: .region, project: fixture.project) == 2)
        #expect(throws: DiagnosticsError.self) {
            try Review.setStatus("reviewed", ids: [3, 999], table: .region, project: fixture.project)
        }
        let statuses = try fixture.project.database.read { try String.fetchAll($0, sql: "SELECT status FROM region ORDER BY id") }
        #expect(statuses == ["reviewed", "reviewed", "draft"])
        #expect(throws: DiagnosticsError.self) {
            try Review.setStatus("approved", ids: [1], table: .region, project: fixture.project)
        }
    }
}

@Suite("Classification labels to multiple-choice questions")
struct ClassificationTests {
    @Test("image labels become choice questions over the class set; multi-label images are skipped; re-runs add nothing")
    func classify() throws {
        let fixture = try ProjectFixture(images: ["b1.png": (10, 10), "m1.png": (10, 10), "n1.png": (10, 10), "x.png": (10, 10)])
        let csv = fixture.write(
            "labels.csv",
            "image,label,x0,y0,x1,y1\nb1.png,benign,,,,\nm1.png,malignant,,,,\nn1.png,normal,,,,\nx.png,benign,,,,\nx.png,malignant,,,,\n"
        )
        let imported = try fixture.importAnnotations(csv, format: .csv) { $0.addLabels = true }
        #expect(imported.committed, "\(imported.diagnostics)")
        #expect(imported.imageLabelsAdded == 5)
        let report = try ClassificationQuestions.run(question: "What is the finding?", project: fixture.project, arguments: [])
        #expect(report.classes == ["benign", "malignant", "normal"])
        #expect(report.made == 3 && report.skippedMultiLabel == 1)
        let items = try fixture.project.database.read { try VQAItemRecord.order(Column("image_id")).fetchAll($0) }
        #expect(items.map(\.answer) == ["benign", "malignant", "normal"])
        #expect(items.map(\.correctOption) == [0, 1, 2])
        #expect(
            items.allSatisfy { $0.answerType == .choice && !$0.groundable && $0.options == #"["benign","malignant","normal"]"# })
        #expect(
            try ClassificationQuestions.run(question: "What is the finding?", project: fixture.project, arguments: []).existing
                == 3)
        #expect(try ProjectValidation.run(fixture.project).errors == 0)
    }
}
