import Foundation
import GroundworkCore
import GroundworkGeometry
import Testing

@testable import GroundworkAnnotations

@Suite struct SLAKEReaderTests {
    @Test func readsDetectionsAndQuestionsInNaturalFolderOrder() throws {
        let run = try runReader(SLAKEReader(), Fixtures.path("slake"))
        #expect(run.found == ["info masks_not_read @ "])
        let regions = run.regions
        try #require(regions.count == 5)
        #expect(regions.map(\.label) == ["Liver", "Left Lung", "Lung", "Liver", "Heart"])
        #expect(
            regions.map(\.key) == [
                "slake:xmlab1:Liver:0", "slake:xmlab1:Left Lung:1", "slake:xmlab1:Lung:2", "slake:xmlab1:Liver:3",
                "slake:xmlab2:Heart:0",
            ])
        // [x, y, w, h]
        #expect(isBox(regions[0].geometry, 10, 20, 40, 60))
        #expect(isBox(regions[4].geometry, 5, 5, 15, 15))
        #expect(regions[0].image == ImageReference(path: "xmlab1/source.jpg"))
        #expect(regions[1].location == .jsonPointer("/1/Left Lung"))

        let questions = run.questions
        try #require(questions.count == 8)
        #expect(questions.map(\.externalId) == ["100", "101", "102", "103", "104", "105", "106", "1000"])
        #expect(questions.map(\.answerType) == [.open, .closed, .open, .open, .open, .open, .closed, .open])
        #expect(
            questions.map(\.questionType) == [
                .localization, .localization, .localization, .localization, .attribute, .classification, .classification,
                .localization,
            ])
        // "Where is the liver?": both liver regions.
        #expect(questions[0].targetKeys == ["slake:xmlab1:Liver:0", "slake:xmlab1:Liver:3"])
        #expect(questions[0].targetLabel == "Liver")
        #expect(questions[0].attributes["slake_location"] == "Abdomen")
        #expect(questions[0].attributes["slake_answer_type"] == "OPEN")
        #expect(questions[0].attributes["slake_img_id"] == "1")
        #expect(questions[0].location == .jsonPointer("/0"))
        // "the left lung": not also "Lung".
        #expect(questions[1].targetKeys == ["slake:xmlab1:Left Lung:1"])
        #expect(questions[1].answer == "Yes")
        // CLOSED with a non-yes/no answer is read as open; no detection names the kidney.
        #expect(questions[2].answer == "Left" && questions[2].targetKeys.isEmpty)
        #expect(questions[3].language == "zh" && questions[3].targetKeys.isEmpty)
        #expect(questions[4].targetKeys.isEmpty && questions[6].targetKeys.isEmpty)
        // The heart is detected on another image: not a target of xmlab10's question.
        #expect(questions[7].targetKeys.isEmpty)
        #expect(questions[7].image == ImageReference(path: "xmlab10/source.jpg"))
        // Every question comes after its folder's regions, so target keys are defined first.
        let order = run.drafts.map {
            if case .region = $0 { return "r" }
            return "q"
        }
        #expect(order.joined() == "rrrrqqqqqqqrq")
    }

    @Test func readsTheImgsFolderItself() throws {
        let run = try runReader(SLAKEReader(), Fixtures.path("slake/imgs"))
        #expect(run.regions.count == 5 && run.questions.count == 8)
    }

    @Test func labelMatchingIsByWholeWords() {
        let labels = ["Liver", "Left Lung", "Lung", "Colon"]
        #expect(SLAKEReader.namedLabels(in: "Where is the LIVER?", labels: labels) == ["Liver"])
        #expect(SLAKEReader.namedLabels(in: "Where are the left lung and the liver?", labels: labels) == ["Liver", "Left Lung"])
        #expect(SLAKEReader.namedLabels(in: "Is there a colonic mass?", labels: labels).isEmpty)
        #expect(SLAKEReader.namedLabels(in: "Which lung is larger?", labels: labels) == ["Lung"])
        #expect(SLAKEReader.questionType(contentType: "Organ", closedYesNo: false) == .classification)
        #expect(SLAKEReader.questionType(contentType: "KG", closedYesNo: true) == .other)
        #expect(SLAKEReader.questionType(contentType: "Quantity", closedYesNo: false) == .attribute)
    }

    @Test func reportsEveryProblemWithFileAndPointer() throws {
        let run = try runReader(SLAKEReader(), Fixtures.path("slake_bad"))
        #expect(
            run.found == [
                "notes: warning not_slake @ ",
                "detection.json: error bad_box @ at /0/Liver",
                "detection.json: error bad_box @ at /1/Heart",
                "detection.json: error bad_detection @ at /2",
                "detection.json: error empty_label @ at /3/",
                "question.json: error missing_field @ at /0/question",
                "question.json: error bad_value @ at /1/answer_type",
                "question.json: warning other_image @ at /2/img_name",
                "question.json: error json_syntax @ at /0/answer",
            ])
        #expect(run.diagnostics.last?.file == Fixtures.path("slake_bad/imgs/xmlab4/question.json"))
        #expect(run.regions.isEmpty)
        // The question about another folder's image is read for that image, without targets.
        try #require(run.questions.count == 1)
        #expect(run.questions[0].image == ImageReference(path: "xmlab9/source.jpg"))
        #expect(run.questions[0].targetKeys.isEmpty)
    }

    @Test func aFileIsNotASLAKEFolder() throws {
        let run = try runReader(SLAKEReader(), Fixtures.path("slake/imgs/xmlab1/question.json"))
        #expect(run.found == ["error not_a_folder @ "])
    }
}
