//! Linking audit records onto their municipality's hash chain: the numbers
//! and hashes an append writes, computed once for both backends and for both
//! ways of writing a batch (asking the database for each chain's head first,
//! or starting from the heads the writer itself committed last).

use crate::records::ChainHead;
use std::collections::HashMap;
use tsunagu_domain::audit::{AuditRecord, ChainedEvent, chain_of, event_hash};
use uuid::Uuid;

/// The records of each chain, chains in the order they first appear and each
/// chain's records in the given order.
pub(crate) fn by_chain<'a>(records: &[&'a AuditRecord]) -> Vec<(Uuid, Vec<&'a AuditRecord>)> {
    let mut chains: Vec<(Uuid, Vec<&AuditRecord>)> = Vec::new();
    for record in records {
        let chain = chain_of(record.municipality_id);
        match chains.iter_mut().find(|(c, _)| *c == chain) {
            Some((_, of_chain)) => of_chain.push(record),
            None => chains.push((chain, vec![record])),
        }
    }
    chains
}

/// The events that follow `after` (the chain's last event's number and hash)
/// on `chain`: consecutive numbers, each hashed over its predecessor.
pub(crate) fn link(chain: Uuid, after: (i64, &[u8]), records: &[&AuditRecord]) -> Vec<ChainedEvent> {
    let (mut seq, prev) = after;
    let mut prev_hash = prev.to_vec();
    records
        .iter()
        .map(|record| {
            seq += 1;
            let mut event = ChainedEvent {
                id: Uuid::now_v7(),
                chain,
                seq,
                occurred_at: record.occurred_at,
                actor_account_id: record.actor_account_id.map(|a| a.0),
                actor_label: record.actor_label.clone(),
                action: record.action.code().to_owned(),
                target_kind: record.target_kind.to_owned(),
                target_id: record.target_id,
                source_ip: record.source_ip.clone(),
                details: record.details.to_string(),
                prev_hash: std::mem::take(&mut prev_hash),
                hash: Vec::new(),
            };
            event.hash = event_hash(&event).to_vec();
            prev_hash = event.hash.clone();
            event
        })
        .collect()
}

/// The head a chain has once `events` (linked by [`link`]) are appended.
pub(crate) fn head_after(chain: Uuid, events: &[ChainedEvent]) -> Option<ChainHead> {
    events.last().map(|last| ChainHead { chain, seq: last.seq, hash: last.hash.clone() })
}

/// The heads of the chains one writer committed last. Only a hint: another
/// connection or process may have appended since, which the `UNIQUE (chain,
/// seq)` constraint of `audit_events` turns into a refused insert (the
/// numbers after a stale head are taken), never into a forked chain.
#[derive(Default)]
pub(crate) struct KnownHeads(HashMap<Uuid, (i64, Vec<u8>)>);

impl KnownHeads {
    /// Remembers heads just committed.
    pub(crate) fn learn(&mut self, heads: Vec<ChainHead>) {
        for head in heads {
            self.0.insert(head.chain, (head.seq, head.hash));
        }
    }

    pub(crate) fn forget(&mut self) {
        self.0.clear();
    }

    /// Links every record after its chain's known head, or `None` if a
    /// chain's head is not known (the database must be asked).
    pub(crate) fn link_all(&self, records: &[&AuditRecord]) -> Option<Linked> {
        let mut linked = Linked::default();
        for (chain, of_chain) in by_chain(records) {
            let (seq, hash) = self.0.get(&chain)?;
            let events = link(chain, (*seq, hash), &of_chain);
            linked.heads.extend(head_after(chain, &events).map(|head| (head, *seq)));
            linked.events.extend(events);
        }
        Some(linked)
    }
}

/// Events linked after known heads, and each chain's new head with the
/// number it follows (the head the database must still have).
#[derive(Default)]
pub(crate) struct Linked {
    pub(crate) events: Vec<ChainedEvent>,
    pub(crate) heads: Vec<(ChainHead, i64)>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tsunagu_domain::audit::{AuditAction, ChainVerifier, GENESIS_HASH};
    use tsunagu_domain::ids::MunicipalityId;

    /// A patient read to append, for the store's tests.
    pub(crate) fn record(municipality: Option<MunicipalityId>) -> AuditRecord {
        AuditRecord {
            occurred_at: time::OffsetDateTime::UNIX_EPOCH,
            municipality_id: municipality,
            actor_account_id: None,
            actor_label: "test".into(),
            action: AuditAction::PatientViewed,
            target_kind: "patient",
            target_id: Some(Uuid::now_v7()),
            source_ip: None,
            details: serde_json::json!({}),
        }
    }

    #[test]
    fn linked_events_verify_and_continue_from_the_known_head() {
        let city = Some(MunicipalityId(Uuid::now_v7()));
        let records = [record(city), record(None), record(city)];
        let refs: Vec<&AuditRecord> = records.iter().collect();
        let chains = by_chain(&refs);
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[0].1.len(), 2, "the city's two records stay together, in order");
        let mut known = KnownHeads::default();
        assert!(known.link_all(&refs).is_none(), "unknown heads must be asked for");

        let first = link(chains[0].0, (0, &GENESIS_HASH), &chains[0].1);
        let mut verifier = ChainVerifier::default();
        for event in &first {
            verifier.push(event).unwrap();
        }
        known.learn(vec![head_after(chains[0].0, &first).unwrap()]);
        known.learn(vec![ChainHead { chain: chains[1].0, seq: 7, hash: vec![1; 32] }]);
        let next = known.link_all(&refs).unwrap();
        let city_events: Vec<&ChainedEvent> = next.events.iter().filter(|e| e.chain == chains[0].0).collect();
        assert_eq!(city_events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
        for event in city_events {
            verifier.push(event).unwrap();
        }
        verifier.finish(4, &next.heads[0].0.hash).unwrap();
        assert_eq!(next.heads[0].1, 2, "the city's chain must still end at 2");
        assert_eq!((next.heads[1].0.seq, next.heads[1].1), (8, 7));
    }
}
