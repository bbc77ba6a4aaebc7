-- The public pages (item キ): the municipality's articles (Markdown, drafts
-- until published), its public events, and the figures it enters for years
-- the system's own data does not cover. Lockstep with ../sqlite.
CREATE TABLE public_articles (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published BOOLEAN NOT NULL,
    -- When it was first published (kept if it is withdrawn and published again).
    published_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by UUID NOT NULL REFERENCES accounts(id)
);
CREATE INDEX public_articles_by_municipality ON public_articles(municipality_id, published, published_at);

CREATE TABLE public_events (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    title TEXT NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ,
    place TEXT NOT NULL,
    description TEXT,
    cancelled_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by UUID NOT NULL REFERENCES accounts(id)
);
CREATE INDEX public_events_by_start ON public_events(municipality_id, starts_at);

CREATE TABLE public_figures (
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    metric TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    value BIGINT NOT NULL,
    note TEXT,
    entered_by UUID NOT NULL REFERENCES accounts(id),
    entered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (municipality_id, metric, fiscal_year)
);
