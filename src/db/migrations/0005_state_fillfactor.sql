-- The projector updates a rental's or a payment's state several times over its life
-- (capture, refunds, completion, payout). Free room on each page lets PostgreSQL make
-- those HOT updates: the new row version stays on its page and the primary key's index
-- is not touched. Applies to pages written from now on.
ALTER TABLE ledger.projection_state SET (fillfactor = 80);
