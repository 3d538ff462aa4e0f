"""Vision: where the cards are in a picture, and what the picture says about them.

One home for card finding and geometry, used by both engines, the image warnings and the
review page::

    picture         the one decoder: an image's bytes and the views decoded from them,
                    each decode made once and let go when the image's rows are made
    strips          a picture too big to hold decoded, read a band of rows at a time
    geometry        the ID-1 card's proportions, the A4 page, the smallest card read
    imaging         pre-flight: what can be refused or fixed before paying
    blank           nothing card-like (blank, uniform, tiny): a row, never a call
    layout          every card on a page: where each lies, cut out and straightened
    photo           one card in a photo: its outline, straightened; the portrait
    text_cards      cards found by their print where no outline shows (a pale back)
    crops           a page cut into its cards for an engine that reads one per call
    image_warnings  copy, reshoot, blur, glare, border: what an office must know

Nothing heavy is imported here: OpenCV and numpy load only where a card is looked for.
"""
