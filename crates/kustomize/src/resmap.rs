//! An ordered list of resources with unique ids.

use crate::Error;
use crate::resource::{Behavior, Resource};

#[derive(Debug, Default, Clone)]
pub struct ResMap {
    pub items: Vec<Resource>,
}

impl ResMap {
    /// Appends many resources, checking ids with one index instead of a scan per item.
    pub fn append_all(&mut self, other: ResMap) -> Result<(), Error> {
        self.append_many(other.items)
    }

    pub fn append_many(&mut self, resources: Vec<Resource>) -> Result<(), Error> {
        {
            let mut seen: std::collections::HashSet<_> =
                self.items.iter().map(Resource::id_key).collect();
            for resource in &resources {
                if !seen.insert(resource.id_key()) {
                    return Err(Error::DuplicateId {
                        id: resource.current_id().to_string(),
                    });
                }
            }
        }
        self.items.extend(resources);
        Ok(())
    }

    /// Adds a generated resource honouring its behavior (create, merge, replace).
    pub fn absorb(
        &mut self,
        resource: Resource,
        merge: impl Fn(&mut Resource, &Resource),
    ) -> Result<(), Error> {
        let behavior = resource.tracking.behavior.unwrap_or_default();
        let id = resource.current_id();
        let position = self
            .items
            .iter()
            .position(|existing| existing.current_id().equals(&id));
        match (behavior, position) {
            (Behavior::Create, None) => {
                self.items.push(resource);
                Ok(())
            }
            (Behavior::Create, Some(_)) => Err(Error::DuplicateId { id: id.to_string() }),
            (Behavior::Merge | Behavior::Replace, None) => Err(Error::build(format!(
                "id {id} does not exist; cannot merge or replace"
            ))),
            (Behavior::Replace, Some(index)) => {
                let previous = &self.items[index];
                let mut resource = resource;
                resource
                    .tracking
                    .previous
                    .clone_from(&previous.tracking.previous);
                resource.tracking.needs_hash |= previous.tracking.needs_hash;
                self.items[index] = resource;
                Ok(())
            }
            (Behavior::Merge, Some(index)) => {
                merge(&mut self.items[index], &resource);
                Ok(())
            }
        }
    }
}
