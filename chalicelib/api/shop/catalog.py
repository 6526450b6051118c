"""What parents browse: whitelisted institutions and their approved courses."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.errors import InvalidRequest
from chalicelib.domain.institutions.catalog import CourseStatus, InstitutionStatus
from chalicelib.domain.shop.directory import Search
from chalicelib.service.institutions import courses, institutions
from chalicelib.service.shop import shop_reviews, shop_search

catalog = Blueprint(__name__)


@route(catalog, "GET", "/v1/institutions",
       summary="List institutions (whitelisted by default); search the whitelist",
       tag="catalog", query=schemas.InstitutionQuery, response=schemas.InstitutionPage)
def list_institutions(call: Call) -> Result:
    """With a discipline, a mode or a keyword: a search of the whitelist."""
    q = call.query
    if q.discipline or q.mode or q.keyword:
        if q.status != InstitutionStatus.WHITELISTED:
            raise InvalidRequest("只能在白名单中按类别、形式或关键词搜索",
                                 code="search_whitelist_only")
        page = shop_search.search(call.ctx, Search(q.region, q.discipline, q.mode, q.keyword),
                                  limit=q.limit, cursor=q.cursor)
    else:
        page = institutions.listing(call.ctx, call.who, status=q.status, region=q.region,
                                    limit=q.limit, cursor=q.cursor)
    items = [views.institution(i) for i in page.items]
    return 200, schemas.InstitutionPage(items=items, next_cursor=page.next_cursor)


@route(catalog, "GET", "/v1/institutions/{institution_id}", summary="One institution",
       tag="catalog", response=schemas.InstitutionView)
def get_institution(call: Call) -> Result:
    """The shop page: the institution with its rating."""
    found = institutions.get(call.ctx, call.who, call.params["institution_id"])
    shop = views.institution(found)
    shop.rating = views.rating(shop_reviews.rating(call.ctx, found.institution_id))
    return 200, shop


@route(catalog, "GET", "/v1/institutions/{institution_id}/reviews",
       summary="A shop's reviews, newest first, with its rating", tag="catalog",
       query=schemas.PageQuery, response=schemas.ReviewPage)
def list_reviews(call: Call) -> Result:
    page, total = shop_reviews.of_institution(call.ctx, call.who, call.params["institution_id"],
                                              limit=call.query.limit, cursor=call.query.cursor)
    return 200, schemas.ReviewPage(items=[views.review(r) for r in page.items],
                                   next_cursor=page.next_cursor, rating=views.rating(total))


@route(catalog, "GET", "/v1/institutions/{institution_id}/courses",
       summary="An institution's courses (approved by default)", tag="catalog",
       query=schemas.CourseQuery, response=schemas.CoursePage)
def list_courses(call: Call) -> Result:
    q = call.query
    page = courses.of_institution(
        call.ctx, call.who, call.params["institution_id"], status=CourseStatus(q.status),
        limit=q.limit, cursor=q.cursor,
    )
    return 200, schemas.CoursePage(
        items=[views.course(c) for c in page.items], next_cursor=page.next_cursor
    )
