-- Before roles were checked against professions, any member could give any
-- account any team role. A role that does not fit its holder is repaired here,
-- as the application reads it anyway: physician roles held by non-physicians
-- become "other" (they no longer open the physicians' entries), and a family
-- account holding a professional role becomes "family". Lockstep with the other
-- backend.
UPDATE team_members SET team_role = 'other'
 WHERE team_role IN ('primary_physician', 'backup_physician')
   AND account_id IN (SELECT id FROM accounts WHERE profession <> 'physician');
UPDATE team_members SET team_role = 'family'
 WHERE team_role <> 'family'
   AND account_id IN (SELECT id FROM accounts WHERE profession = 'family');
