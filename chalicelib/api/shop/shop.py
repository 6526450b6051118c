"""A shop as parents see it, its announcements, and consultations between a parent and an
institution."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service.shop import consultations, shop_posts, shops

shop = Blueprint(__name__)


@route(shop, "GET", "/v1/shops/{institution_id}",
       summary="A shop: profile, rating, courses on sale, latest announcements", tag="catalog",
       response=schemas.ShopView)
def get_shop(call: Call) -> Result:
    found = shops.page(call.ctx, call.who, call.params["institution_id"])
    return 200, schemas.ShopView(
        institution=views.institution(found.institution), rating=views.rating(found.rating),
        courses=[views.course(c) for c in found.courses.items],
        courses_next_cursor=found.courses.next_cursor,
        announcements=[views.announcement(a) for a in found.announcements.items])


@route(shop, "POST", "/v1/institutions/{institution_id}/announcements",
       summary="Post an announcement on the shop (its staff)", tag="catalog",
       request=schemas.AnnouncementBody, response=schemas.AnnouncementView, status=201,
       creates="ann")
def post_announcement(call: Call) -> Result:
    posted = shop_posts.post(call.ctx, call.who, call.params["institution_id"], call.new_id,
                             title=call.body.title, text=call.body.text)
    return 201, views.announcement(posted)


@route(shop, "GET", "/v1/institutions/{institution_id}/announcements",
       summary="A shop's announcements, newest first", tag="catalog",
       query=schemas.PageQuery, response=schemas.AnnouncementPage)
def list_announcements(call: Call) -> Result:
    page = shop_posts.of_institution(call.ctx, call.who, call.params["institution_id"],
                                     limit=call.query.limit, cursor=call.query.cursor)
    return 200, schemas.AnnouncementPage(items=[views.announcement(a) for a in page.items],
                                         next_cursor=page.next_cursor)


@route(shop, "POST", "/v1/institutions/{institution_id}/consultations",
       summary="Ask an institution a question (a parent)", tag="catalog",
       request=schemas.ConsultationBody, response=schemas.ConsultationView, status=201,
       creates="csl")
def ask(call: Call) -> Result:
    asked = consultations.ask(call.ctx, call.who, call.params["institution_id"], call.new_id,
                              call.body.question)
    return 201, views.consultation(asked)


@route(shop, "GET", "/v1/consultations",
       summary="A parent's questions, or an institution's consultations, newest first",
       tag="catalog", query=schemas.ConsultationQuery, response=schemas.ConsultationPage)
def list_consultations(call: Call) -> Result:
    q = call.query
    page = consultations.listing(call.ctx, call.who, status=q.status, limit=q.limit,
                                 cursor=q.cursor)
    return 200, schemas.ConsultationPage(items=[views.consultation(c) for c in page.items],
                                         next_cursor=page.next_cursor)


@route(shop, "GET", "/v1/consultations/{consultation_id}", summary="One consultation",
       tag="catalog", response=schemas.ConsultationView)
def get_consultation(call: Call) -> Result:
    return 200, views.consultation(
        consultations.visible(call.ctx, call.who, call.params["consultation_id"]))


@route(shop, "POST", "/v1/consultations/{consultation_id}/answer",
       summary="Answer a consultation, once (the institution)", tag="catalog",
       request=schemas.ConsultationAnswer, response=schemas.ConsultationView)
def answer(call: Call) -> Result:
    return 200, views.consultation(
        consultations.answer(call.ctx, call.who, call.params["consultation_id"], call.body.text))
