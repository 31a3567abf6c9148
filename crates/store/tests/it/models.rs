//! The model registry: versions, one champion per name, every change in the ledger.

use daylight_store::model::NewModel;
use daylight_testdb::contract;

use crate::fixtures::*;

fn model(name: &str, auc: f64) -> NewModel {
    NewModel {
        name: name.into(),
        source: "daylight".into(),
        metrics: format!("{{\"auc\":{auc}}}"),
        document: format!("{{\"format\":\"daylight-gbdt/1\",\"auc\":{auc}}}"),
    }
}

contract! {
    fn models_are_versioned_and_promoted_one_champion_at_a_time(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        let v1 = store.register_model(&model("propensity", 0.77), "analyst", now()).await.unwrap();
        let v2 = store.register_model(&model("propensity", 0.78), "analyst", now()).await.unwrap();
        let other = store.register_model(&model("contactability", 0.7), "analyst", now()).await.unwrap();
        assert_eq!((v1.version, v2.version, other.version), (1, 2, 1));
        assert_eq!(v1.status, "challenger");
        assert_eq!(v1.sha256.len(), 64);
        assert_eq!(store.model_document("propensity", None).await.unwrap_err().code(), "NOT_FOUND");

        store.promote_model("propensity", 1, "lead", now()).await.unwrap();
        let (champion, doc) = store.model_document("propensity", None).await.unwrap();
        assert_eq!((champion.version, doc.contains("0.77")), (1, true));
        store.promote_model("propensity", 2, "lead", now()).await.unwrap();
        let statuses: Vec<(i64, String)> =
            store.list_models(Some("propensity")).await.unwrap().into_iter().map(|m| (m.version, m.status)).collect();
        assert_eq!(statuses, [(2, "champion".to_owned()), (1, "retired".to_owned())]);
        assert_eq!(store.promote_model("propensity", 2, "lead", now()).await.unwrap_err().code(), "TRANSITION");
        assert_eq!(store.promote_model("propensity", 9, "lead", now()).await.unwrap_err().code(), "NOT_FOUND");
        assert_eq!(store.list_models(None).await.unwrap().len(), 3);

        let bad = NewModel { name: "Propensity!".into(), ..model("x", 0.5) };
        assert_eq!(store.register_model(&bad, "analyst", now()).await.unwrap_err().code(), "ID_FORMAT");
        let bad = NewModel { metrics: "not json".into(), ..model("x", 0.5) };
        assert_eq!(store.register_model(&bad, "analyst", now()).await.unwrap_err().code(), "INCONSISTENT");
        assert_eq!(events(store, "model.registered").await.len(), 3);
        let promoted = events(store, "model.promoted").await;
        assert_eq!(promoted.len(), 2);
        assert!(promoted[1].payload.contains("\"retired\":1"), "{}", promoted[1].payload);
        verified_head(store).await;
    }
}

contract! {
    fn experiments_are_written_once_with_their_event(store, db) {
        store.migrate(ACTOR, now()).await.unwrap();
        let new = daylight_store::model::NewExperiment {
            name: "timing-2026q4".into(),
            arms: "champion:45,challenger:45,holdout:10".into(),
            salt: "s1".into(),
        };
        let e = store.create_experiment(&new, "analyst", now()).await.unwrap();
        assert_eq!((e.arms.as_str(), e.salt.as_str(), e.created_by.as_str()), (new.arms.as_str(), "s1", "analyst"));
        assert_eq!(store.experiment("timing-2026q4").await.unwrap(), e);
        // The arms and salt never change: a second create under the name is refused.
        let again = daylight_store::model::NewExperiment { salt: "s2".into(), ..new.clone() };
        assert_eq!(store.create_experiment(&again, "analyst", now()).await.unwrap_err().code(), "EXISTS");
        assert_eq!(store.experiment("timing-2026q4").await.unwrap().salt, "s1");
        assert_eq!(store.experiment("nope").await.unwrap_err().code(), "NOT_FOUND");
        let bad = daylight_store::model::NewExperiment { name: "Bad Name".into(), ..new.clone() };
        assert_eq!(store.create_experiment(&bad, "analyst", now()).await.unwrap_err().code(), "ID_FORMAT");
        assert_eq!(store.list_experiments().await.unwrap().len(), 1);
        let created = events(store, "experiment.created").await;
        assert_eq!(created.len(), 1);
        assert!(created[0].payload.contains("\"salt\":\"s1\""), "{}", created[0].payload);
        verified_head(store).await;
    }
}
