"""Present: what a recognised card becomes in the table.

``rows`` turns an engine's answer into an output row; ``stamps`` cuts copy stamps out of
its fields; ``checks`` runs the ID number's and the dates' own rules; ``review`` decides
whether a person must look at the row, and why; ``masking`` makes copies that may be
shared; ``pairing`` joins a card's front and back into one entry; ``portraits`` saves each
front's face before its link dies.
"""
